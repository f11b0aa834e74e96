import FeatureCore
import FsmlCore
import GBDT
import OfflineStorage
import PointInTime

// The lower targets' types that FSML's API takes and returns, named here so that `import FSML`
// is all a program needs.

/// A field's value in an event or a request: a string, a number, a flag, or missing.
public typealias FieldValue = FeatureCore.FieldValue
/// A time: microseconds since the Unix epoch, UTC.
public typealias Micros = FsmlCore.Micros
/// How a training set is built: as-known-at or event-time-only, the memory budget, threads.
public typealias BuildOptions = PointInTime.BuildOptions
/// What a build wrote: rows, positives, examples left out as immature, the files it read.
public typealias BuildReport = PointInTime.BuildReport
/// Lines taken by a ``FeatureMemory``: admitted, late, duplicate, rejected, waiting.
public typealias IntakeCounts = OfflineStorage.IntakeCounts
/// A trained model: boosted trees, a logistic baseline, or an XGBoost JSON model.
public typealias AnyModel = GBDT.AnyModel
