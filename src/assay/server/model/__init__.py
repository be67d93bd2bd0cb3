"""The model server over HTTP: KServe V1 and V2 routes on FastAPI, run by uvicorn."""
