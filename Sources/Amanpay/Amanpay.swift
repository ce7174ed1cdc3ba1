// Amanpay module: see README.
