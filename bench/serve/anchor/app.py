"""The reference design's serving stack, rebuilt for the benchmark: FastAPI on uvicorn, feature values
read from Redis with redis-py (hiredis parser), scored by LightGBM. Same request and response shape
as fsml's /predict.

Environment: ANCHOR_REDIS_PORT, ANCHOR_MODEL (a LightGBM text model), ANCHOR_FEATURES (JSON list of
feature names with their entity: [["user_views_5m", "user"], ...]).
"""
import json
import os

import lightgbm
import numpy as np
import redis
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

app = FastAPI()
store = redis.Redis(host="127.0.0.1", port=int(os.environ["ANCHOR_REDIS_PORT"]), db=1)
booster = lightgbm.Booster(model_file=os.environ["ANCHOR_MODEL"])
features = json.loads(os.environ["ANCHOR_FEATURES"])


class PredictRequest(BaseModel):
    user_id: str
    product_id: str
    session_id: str | None = None


@app.post("/predict")
def predict(req: PredictRequest):
    keys = [f"anchor:user:{req.user_id}", f"anchor:product:{req.product_id}"]
    if req.session_id is not None:
        keys.append(f"anchor:session:{req.user_id}:{req.session_id}")
    values = store.mget(keys)
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
    # One thread per predict, as a serving expert would set it: the two uvicorn workers share the cores.
    score = float(booster.predict(np.array([row], dtype=np.float64), num_threads=1)[0])
    return JSONResponse({"score": score, "model_version": "anchor", "missing": missing})
