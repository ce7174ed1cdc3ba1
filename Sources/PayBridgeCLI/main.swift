print("paybridge: not yet")
