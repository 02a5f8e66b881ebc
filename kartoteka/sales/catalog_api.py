"""/api/v1/sales: products, price lists, a deal's line items, quotes and invoices."""

from ninja import Router

router = Router(tags=["products and documents"])
