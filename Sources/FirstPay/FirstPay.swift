// FirstPay module: see README.
