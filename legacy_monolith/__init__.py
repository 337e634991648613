"""TechGoods ERP: the legacy Django + DRF monolith of a B2B electronics distributor."""
