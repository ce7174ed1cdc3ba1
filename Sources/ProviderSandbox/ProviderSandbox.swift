// ProviderSandbox module: see README.
