"""The reference design's serving stack, rebuilt for the benchmark as its experts would write it:
FastAPI on uvicorn, an async endpoint reading feature values from Redis with redis-py's asyncio
client (hiredis parser), scored by LightGBM at one thread per call (the workers share the cores).
Same request and response shape as fsml's /predict; it reads the user, product and session values
(fsml also reads the user×product pair and computes the request-time price features).

Environment: ANCHOR_REDIS_PORT, ANCHOR_MODEL (a LightGBM text model), ANCHOR_FEATURES (JSON list of
feature names with their entity: [["user_views_5m", "user"], ...]).
"""
import json
import os

import lightgbm
import numpy as np
import redis.asyncio as aioredis
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

app = FastAPI()
store = aioredis.Redis(host="127.0.0.1", port=int(os.environ["ANCHOR_REDIS_PORT"]), db=1)
booster = lightgbm.Booster(model_file=os.environ["ANCHOR_MODEL"])
features = json.loads(os.environ["ANCHOR_FEATURES"])


class PredictRequest(BaseModel):
    user_id: str
    product_id: str
    session_id: str | None = None


@app.post("/predict")
async def predict(req: PredictRequest):
    keys = [f"anchor:user:{req.user_id}", f"anchor:product:{req.product_id}"]
    if req.session_id is not None:
        keys.append(f"anchor:session:{req.user_id}:{req.session_id}")
    values = await store.mget(keys)
    by_entity = {}
    for entity, raw in zip(["user", "product", "session"], values):
        by_entity[entity] = json.loads(raw) if raw else {}
    row = []
    missing = []
    for name, entity in features:
        v = by_entity.get(entity, {}).get(name)
        if v is None:
            missing.append(name)
            row.append(np.nan)
        else:
            row.append(float(v))
    score = float(booster.predict(np.array([row], dtype=np.float64), num_threads=1)[0])
    return JSONResponse({"score": score, "model_version": "anchor", "missing": missing})
