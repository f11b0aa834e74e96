"""The Spark Structured Streaming side of the stream benchmark, in its own process:
    spark_run.py INPUT_DIR EVENTS
local[2], the JSON file source one file per micro-batch, a 10-minute watermark, and the windowed
counts behind the reference features: per user and event type over 5-minute windows sliding by
1 minute, per product and event type over 24-hour windows sliding by 1 hour (with the price sum).
Both queries run to the end of the input (Trigger.AvailableNow) into the no-op sink, which leaves
Spark's own work: parsing, state, windows. Prints JSON: seconds from start to both queries done,
events per second."""
import json
import sys
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T


def main():
    input_dir, events = sys.argv[1], int(sys.argv[2])
    spark = (SparkSession.builder.master("local[2]").appName("fsml-stream-bench")
             .config("spark.sql.shuffle.partitions", "2").config("spark.ui.enabled", "false")
             .config("spark.driver.memory", "2g").config("spark.ui.showConsoleProgress", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    schema = T.StructType([
        T.StructField("event_id", T.StringType()), T.StructField("event_ts", T.StringType()),
        T.StructField("user_id", T.StringType()), T.StructField("session_id", T.StringType()),
        T.StructField("event_type", T.StringType()), T.StructField("product_id", T.StringType()),
        T.StructField("price", T.DoubleType()),
    ])
    start = time.perf_counter()
    source = (spark.readStream.schema(schema).option("maxFilesPerTrigger", 1).json(input_dir)
              .withColumn("ts", F.to_timestamp("event_ts")).withWatermark("ts", "10 minutes"))
    users = source.groupBy(F.window("ts", "5 minutes", "1 minute"), "user_id", "event_type").count()
    products = (source.where(F.col("product_id").isNotNull())
                .groupBy(F.window("ts", "24 hours", "1 hour"), "product_id", "event_type")
                .agg(F.count("*").alias("n"), F.sum("price").alias("revenue")))
    queries = [q.writeStream.outputMode("update").format("noop").trigger(availableNow=True)
               .option("checkpointLocation", f"{input_dir}/../spark-checkpoint-{i}").start()
               for i, q in enumerate([users, products])]
    for q in queries:
        q.awaitTermination()
    seconds = time.perf_counter() - start
    rows = sum(p["numInputRows"] for q in queries[:1] for p in q.recentProgress)
    print(json.dumps({"seconds": seconds, "events": events, "rows_read_by_user_query": rows,
                      "events_per_second": events / seconds}))
    spark.stop()


if __name__ == "__main__":
    main()
