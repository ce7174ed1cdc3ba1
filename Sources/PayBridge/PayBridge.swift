// PayBridge module: see README.
