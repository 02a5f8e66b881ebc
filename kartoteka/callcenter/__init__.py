"""The contact centre: telephony providers, calls, operators, queues, ACD, KPIs, staffing."""
