"""The inventory service: TechGoods' stock, warehouses, adjustments, reservations and movements, extracted
from the monolith into a FastAPI app with its own database (see README, "Extracting inventory")."""
