"""HTTP interface: the FastAPI app, its routers, schemas, error mapping and auth."""
