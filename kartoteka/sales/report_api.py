"""/api/v1/plans and /api/v1/reports/sales: sales plans, plan vs fact, forecast, funnel."""

from ninja import Router

plans_router = Router(tags=["sales plans"])
reports_router = Router(tags=["sales reports"])
