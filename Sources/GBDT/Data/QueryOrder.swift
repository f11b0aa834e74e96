/// Rows put in query order for ranking: the rows of each query id together, queries in the order
/// their first rows come, rows within a query in their own order (time, for a dataset). A row
/// without an id is a query of its own.
public enum QueryOrder {
    /// `rows` reordered, and the size of each query in the new order.
    public static func of(_ rows: [Int], ids: (Int) -> String?) -> (rows: [Int], sizes: [Int]) {
        var slot: [String: Int] = [:]
        var queries: [[Int]] = []
        for r in rows {
            if let id = ids(r) {
                if let q = slot[id] {
                    queries[q].append(r)
                    continue
                }
                slot[id] = queries.count
            }
            queries.append([r])
        }
        return (queries.flatMap { $0 }, queries.map(\.count))
    }
}
