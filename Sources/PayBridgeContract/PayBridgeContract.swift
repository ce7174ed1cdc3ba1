// PayBridgeContract module: see README.
