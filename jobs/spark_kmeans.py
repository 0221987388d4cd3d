"""KMeans clustering of the iris flowers with Spark ML (the lecture's sample program).

Runs with spark-submit semantics: the master comes from outside (`spark-submit --master ...`,
or PYSPARK_SUBMIT_ARGS as `dmlctl submit` sets it), so the same file runs on `local[*]` and on
a standalone cluster. Steps, as in the lecture:

  read the CSV (header, schema inference) -> VectorAssembler over the four measures
  -> StandardScaler(withStd=True, withMean=False) -> KMeans for k = 2..9, silhouette of each
  -> a k = 3 model -> cluster sizes -> predictions to pandas -> plots -> spark.stop()

Writes into the output directory (--out, else $DMLCTL_RUN_DIR, else the current directory):
result.json, silhouette.png (silhouette against k) and clusters.png (two measures coloured by
cluster).

    python jobs/spark_kmeans.py [--data CSV] [--out DIR] [--k 3] [--seed 1]
"""

import argparse
import importlib.util
import json
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # the driver may have no display

import matplotlib.pyplot as plt
from pyspark.ml.clustering import KMeans
from pyspark.ml.evaluation import ClusteringEvaluator
from pyspark.ml.feature import StandardScaler, VectorAssembler
from pyspark.sql import SparkSession

DEFAULT_DATA = Path(__file__).resolve().parent / "data" / "iris.csv"
INPUT_COLS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
K_RANGE = range(2, 10)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--data",
        default=str(DEFAULT_DATA),
        help="CSV with a header: a path (or URI) that the driver and every executor can read "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--from-driver",
        action="store_true",
        help="read the CSV here on the driver and hand its rows to Spark (for a cluster whose "
        "nodes cannot see the file)",
    )
    parser.add_argument(
        "--out",
        default=os.environ.get("DMLCTL_RUN_DIR") or ".",
        help="directory for result.json and the plots (default: $DMLCTL_RUN_DIR or .)",
    )
    parser.add_argument("--k", type=int, default=3, help="clusters of the final model (3)")
    parser.add_argument("--seed", type=int, default=1, help="KMeans seed (1)")
    return parser.parse_args()


def plot_silhouette(scores: dict[int, float], k: int, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ks = list(scores)
    ax.plot(ks, [scores[i] for i in ks], marker="o", color="tab:blue")
    if k in scores:
        ax.scatter([k], [scores[k]], s=160, facecolors="none", edgecolors="tab:red", zorder=3)
        ax.annotate(
            f"k = {k} (model)",
            (k, scores[k]),
            textcoords="offset points",
            xytext=(10, 8),
            color="tab:red",
        )
    ax.set_xticks(ks)
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("silhouette (scaled features)")
    ax.set_title("KMeans on iris: silhouette score against k")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_clusters(pandas_df, k: int, path: Path) -> None:
    """Petal length against petal width: coloured by cluster, and by species for comparison."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5), sharex=True, sharey=True)
    colours = plt.get_cmap("tab10")
    for cluster in sorted(pandas_df["prediction"].unique()):
        part = pandas_df[pandas_df["prediction"] == cluster]
        ax1.scatter(
            part["petal_length"],
            part["petal_width"],
            s=22,
            color=colours(int(cluster)),
            label=f"cluster {cluster} ({len(part)})",
        )
    ax1.set_title(f"KMeans clusters (k = {k})")
    if "species" in pandas_df.columns:
        for i, species in enumerate(sorted(pandas_df["species"].unique())):
            part = pandas_df[pandas_df["species"] == species]
            ax2.scatter(
                part["petal_length"],
                part["petal_width"],
                s=22,
                marker="^",
                color=colours(i + 3),
                label=f"{species} ({len(part)})",
            )
        ax2.set_title("actual species")
    for ax in (ax1, ax2):
        ax.set_xlabel("petal length (cm)")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize=9)
    ax1.set_ylabel("petal width (cm)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    args = parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    spark = SparkSession.builder.appName("KMeansClustering").getOrCreate()
    master = spark.sparkContext.master
    print(f"Spark {spark.version}, master {master}")
    if importlib.util.find_spec("pyarrow") is None:
        # toPandas() would try Arrow first and warn at length before falling back.
        spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "false")

    if args.from_driver:
        import pandas as pd

        df = spark.createDataFrame(pd.read_csv(args.data))
    else:
        df = spark.read.csv(args.data, header=True, inferSchema=True)
    rows = df.count()
    print(f"Number of rows: {rows}, Number of columns: {len(df.columns)}")
    df.printSchema()

    vec_assembler = VectorAssembler(inputCols=INPUT_COLS, outputCol="features")
    df = vec_assembler.transform(df)
    scaler = StandardScaler(
        inputCol="features", outputCol="scaled_features", withStd=True, withMean=False
    )
    df = scaler.fit(df).transform(df)

    evaluator = ClusteringEvaluator(featuresCol="scaled_features", predictionCol="prediction")
    silhouette_scores: dict[int, float] = {}
    for k in K_RANGE:
        kmeans = KMeans(
            k=k, featuresCol="scaled_features", predictionCol="prediction", seed=args.seed
        )
        model = kmeans.fit(df)
        predictions = model.transform(df)
        silhouette = evaluator.evaluate(predictions)
        silhouette_scores[k] = silhouette
        print(f"Silhouette score for k={k}: {silhouette}")

    plot_silhouette(silhouette_scores, args.k, out / "silhouette.png")

    kmeans = KMeans(
        k=args.k, featuresCol="scaled_features", predictionCol="prediction", seed=args.seed
    )
    model = kmeans.fit(df)
    predictions = model.transform(df)
    predictions.groupBy("prediction").count().orderBy("prediction").show()

    keep = [*INPUT_COLS, *(["species"] if "species" in df.columns else []), "prediction"]
    pandas_df = predictions.select(*keep).toPandas()
    plot_clusters(pandas_df, args.k, out / "clusters.png")
    counts = pandas_df["prediction"].value_counts().sort_index()

    result = {
        "job": "spark-kmeans",
        "rows": rows,
        "columns": len(df.columns) - 2,  # without the added feature vectors
        "silhouette": {str(k): score for k, score in silhouette_scores.items()},
        "k": args.k,
        "cluster_counts": {str(int(c)): int(n) for c, n in counts.items()},
        "master": master,
        "spark_version": spark.version,
        "app_id": spark.sparkContext.applicationId,
        "seed": args.seed,
        "data": args.data,
        "plots": ["silhouette.png", "clusters.png"],
    }
    spark.stop()

    tmp = out / "result.json.tmp"
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(out / "result.json")
    print(f"wrote {out / 'result.json'}, {out / 'silhouette.png'}, {out / 'clusters.png'}")


if __name__ == "__main__":
    main()
