"""The checks behind scripts/deploy-check.py (`make deploy-check`), one module per part of deploy/."""
