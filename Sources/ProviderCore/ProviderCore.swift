// ProviderCore module: see README.
