"""The Feast side: get_historical_features with Feast's file offline store, in its own process.
    feast_run.py WORKDIR USER_ROWS PRODUCT_ROWS SPINE
Feast joins precomputed feature rows (it does not aggregate events): each user and product row
holds the entity's running event count at each of its events. Prints seconds and rows returned."""
import json
import sys
import time
from datetime import timedelta

import pandas as pd
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, RepoConfig
from feast.types import Int64
from feast.value_type import ValueType


def main():
    work, user_rows, product_rows, spine_path = sys.argv[1:5]
    config = RepoConfig(project="bench", provider="local", registry=f"{work}/registry.db",
                        online_store={"type": "sqlite", "path": f"{work}/online.db"},
                        offline_store={"type": "file"}, entity_key_serialization_version=3)
    store = FeatureStore(config=config)
    user = Entity(name="user", join_keys=["user_id"], value_type=ValueType.STRING)
    product = Entity(name="product", join_keys=["product_id"], value_type=ValueType.STRING)
    users = FeatureView(name="user_stats", entities=[user], ttl=timedelta(days=7),
                        schema=[Field(name="user_events", dtype=Int64)],
                        source=FileSource(path=user_rows, timestamp_field="event_ts"))
    products = FeatureView(name="product_stats", entities=[product], ttl=timedelta(days=3),
                           schema=[Field(name="product_events", dtype=Int64)],
                           source=FileSource(path=product_rows, timestamp_field="event_ts"))
    store.apply([user, product, users, products])
    spine = pd.read_parquet(spine_path)[["user_id", "product_id", "event_timestamp"]]
    start = time.perf_counter()
    result = store.get_historical_features(entity_df=spine, features=["user_stats:user_events", "product_stats:product_events"]).to_df()
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "rows_in": len(spine), "rows_out": len(result)}))


if __name__ == "__main__":
    main()
