"""FactuSOL ⇄ PrestaShop change-data-capture replicator."""

__version__ = "0.1.0"
