import FeatureCore
import FsmlCore
import Yams

/// Reads fsml.yaml into a `FeatureRegistry`, rejecting unknown keys and dangling references with
/// errors that name the file, the line and the key.
public enum RegistryLoader {
    public static let defaultLateness: Micros = 10 * Timestamp.microsPerMinute

    public static func load(path: String) throws -> FeatureRegistry {
        let text: String
        do {
            text = try FileSystem.readText(path)
        } catch {
            throw ConfigError(
                file: path, line: nil, key: "",
                message: FileSystem.exists(path)
                    ? "cannot read the file" : "no such file (run `fsml init` to write the reference project)")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> FeatureRegistry {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ConfigError(file: file, line: nil, key: "", message: "the file is empty")
            }
            root = node
        } catch let error as ConfigError {
            throw error
        } catch let error as YamlError {
            throw yamlError(error, file: file, text: text)
        } catch {
            throw ConfigError(file: file, line: nil, key: "", message: "not valid YAML: \(error)")
        }
        return try build(ConfigNode(node: root, path: "", file: file))
    }

    private static func yamlError(_ error: YamlError, file: String, text: String) -> ConfigError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return ConfigError(file: file, line: mark.line, key: "", message: "not valid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams marks the first occurrence; the line to fix is the repeat below it, at its column.
            let key = duplicates.first ?? ""
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let first = context.mark.line
            let indent = String(repeating: " ", count: max(0, context.mark.column - 1))
            let again = lines.indices.dropFirst(first).first { i in
                lines[i].hasPrefix(indent + key + ":") || lines[i].hasPrefix(indent + "\"\(key)\":")
            }
            return ConfigError(
                file: file, line: again.map { $0 + 1 } ?? first, key: "",
                message: "the key '\(key)' appears twice in one mapping (first at line \(first))")
        default:
            // (Other errors would print the whole text they hold.)
            return ConfigError(file: file, line: nil, key: "", message: "not valid YAML")
        }
    }

    private static let topKeys = [
        "project", "events", "allowed_lateness", "max_clock_jump", "clock_jump_quorum", "entities", "features",
        "feature_views", "label", "stores",
        "expectations",
    ]

    private static func build(_ root: ConfigNode) throws(ConfigError) -> FeatureRegistry {
        let top = try root.mapping(allowed: topKeys)
        func section(_ key: String) throws(ConfigError) -> ConfigNode {
            guard let node = top.first(where: { $0.key == key })?.value else {
                throw root.error("missing section '\(key)'")
            }
            return node
        }
        let projectNode = try section("project")
        let project = try projectNode.string()
        guard isName(project, allowDash: true) else {
            throw projectNode.error("'\(project)' is not a project name (letters, digits, _ and -)")
        }
        let schema = try parseSchema(try section("events"))
        var lateness = defaultLateness
        if let node = top.first(where: { $0.key == "allowed_lateness" })?.value { lateness = try node.duration() }
        let entities = try parseEntities(try section("entities"), schema: schema)
        var features = try parseFeatures(try section("features"), schema: schema, entities: entities)
        let views = try parseViews(try section("feature_views"), entities: entities, features: &features)
        var label: LabelSpec?
        if let node = top.first(where: { $0.key == "label" })?.value { label = try parseLabel(node, schema: schema) }
        let stores = try parseStores(try section("stores"))
        var registry = FeatureRegistry(
            project: project, schema: schema, allowedLateness: lateness, entities: entities, features: features,
            views: views, label: label, stores: stores, source: root.file)
        if let node = top.first(where: { $0.key == "max_clock_jump" })?.value {
            registry.clockJumps.maxJump = try node.duration()
            guard registry.clockJumps.maxJump >= lateness else {
                throw node.error("must be at least allowed_lateness (\(DurationText.format(lateness)))")
            }
        }
        if let node = top.first(where: { $0.key == "clock_jump_quorum" })?.value {
            registry.clockJumps.quorum = try node.integer()
            guard (1...1000).contains(registry.clockJumps.quorum) else { throw node.error("must be from 1 to 1000") }
        }
        if let node = top.first(where: { $0.key == "expectations" })?.value {
            registry.expectations = try parseExpectations(node)
        }
        return registry
    }

    static func isName(_ s: String, allowDash: Bool = false) -> Bool {
        guard let first = s.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || (allowDash && $0 == "-")) }
    }

    // MARK: events

    private static func parseSchema(_ node: ConfigNode) throws(ConfigError) -> EventSchema {
        let entries = try node.mapping(allowed: ["time_field", "id_field", "fields", "max_line_bytes"])
        func value(_ key: String) throws(ConfigError) -> ConfigNode {
            guard let v = entries.first(where: { $0.key == key })?.value else {
                throw node.error("missing key '\(key)'")
            }
            return v
        }
        var fields: [FieldSpec] = []
        var lines: [String: ConfigNode] = [:]
        for (name, spec) in try value("fields").entries() {
            guard name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ isName(String($0)) }) else {
                throw spec.error("'\(name)' is not a field name (names joined by dots for nested objects)")
            }
            fields.append(try parseField(name: name, spec))
            lines[name] = spec
        }
        guard !fields.isEmpty else { throw node.error("no fields declared") }
        // A field `card` and a field `card.brand` cannot both exist: one is an object, one a value.
        for f in fields where fields.contains(where: { $0.name.hasPrefix(f.name + ".") }) {
            throw lines[f.name]!.error("'\(f.name)' is both a value and an object of nested fields")
        }
        let timeNode = try value("time_field")
        let timeName = try timeNode.string()
        guard let timeField = fields.firstIndex(where: { $0.name == timeName }) else {
            throw timeNode.error("'\(timeName)' is not a declared field")
        }
        guard fields[timeField].type == .timestamp, !fields[timeField].optional else {
            throw timeNode.error("the event time field '\(timeName)' must be a required timestamp")
        }
        let idNode = try value("id_field")
        let idName = try idNode.string()
        guard let idField = fields.firstIndex(where: { $0.name == idName }) else {
            throw idNode.error("'\(idName)' is not a declared field")
        }
        guard fields[idField].type == .string, !fields[idField].optional else {
            throw idNode.error("the event id field '\(idName)' must be a required string")
        }
        var schema = EventSchema(fields: fields, timeField: timeField, idField: idField)
        if let limit = entries.first(where: { $0.key == "max_line_bytes" })?.value {
            schema.maxLineBytes = try limit.integer()
            guard schema.maxLineBytes >= 64 && schema.maxLineBytes <= 1 << 30 else {
                throw limit.error("must be from 64 bytes to 1 GiB")
            }
        }
        return schema
    }

    private static func parseField(name: String, _ node: ConfigNode) throws(ConfigError) -> FieldSpec {
        let entries = try node.mapping(allowed: ["type", "optional", "max_length", "values", "min", "max"])
        guard let typeNode = entries.first(where: { $0.key == "type" })?.value else {
            throw node.error("missing key 'type'")
        }
        let typeName = try typeNode.string()
        guard let type = FieldType(rawValue: typeName) else {
            throw typeNode.error(
                "'\(typeName)' is not a field type (one of \(FieldType.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        var spec = FieldSpec(name: name, type: type)
        for (key, v) in entries {
            switch key {
            case "optional": spec.optional = try v.bool()
            case "max_length":
                guard type == .string else { throw v.error("only string fields have a max_length") }
                spec.maxLength = try v.integer()
                guard spec.maxLength > 0 else { throw v.error("must be at least 1") }
            case "values":
                guard type == .string else { throw v.error("only string fields have a list of values") }
                guard v.node.sequence != nil else { throw v.error("expected a list of values") }
                spec.values = try v.stringList()
            case "min":
                guard type == .int || type == .float else { throw v.error("only numeric fields have bounds") }
                spec.min = try v.number()
            case "max":
                guard type == .int || type == .float else { throw v.error("only numeric fields have bounds") }
                spec.max = try v.number()
            default: break
            }
        }
        return spec
    }

    // MARK: entities

    private static func parseEntities(_ node: ConfigNode, schema: EventSchema) throws(ConfigError) -> [EntitySpec] {
        var out: [EntitySpec] = []
        for (name, spec) in try node.entries() {
            guard isName(name) else { throw spec.error("'\(name)' is not an entity name") }
            let entries = try spec.mapping(allowed: ["key", "ttl", "description"])
            guard let keyNode = entries.first(where: { $0.key == "key" })?.value else {
                throw spec.error("the entity has no key (key: a field, or a list of fields)")
            }
            var keys: [Int] = []
            for fieldName in try keyNode.stringList() {
                guard let i = schema.index(of: fieldName) else {
                    throw keyNode.error("'\(fieldName)' is not a declared event field")
                }
                guard schema.fields[i].type == .string || schema.fields[i].type == .int, !schema.fields[i].optional
                else {
                    throw keyNode.error("key field '\(fieldName)' must be a required string or int")
                }
                keys.append(i)
            }
            guard !keys.isEmpty else { throw keyNode.error("the entity has no key") }
            guard let ttlNode = entries.first(where: { $0.key == "ttl" })?.value else {
                throw spec.error("missing key 'ttl'")
            }
            out.append(EntitySpec(name: name, keyFields: keys, ttl: try ttlNode.duration()))
        }
        guard !out.isEmpty else { throw node.error("no entities declared") }
        return out
    }

    // MARK: features

    /// The keys every feature may have; operations add their own (`AggregatorCatalog.argumentKeys`).
    private static let commonFeatureKeys = [
        "entity", "aggregation", "filter", "window", "hop", "half_life", "numerator", "denominator", "expression",
        "description",
    ]

    private static var operationNames: String {
        (AggregatorCatalog.all.map { $0.name } + ["ratio"]).joined(separator: ", ")
            + "; or an expression: instead of an aggregation"
    }

    private static func parseFeatures(
        _ node: ConfigNode, schema: EventSchema, entities: [EntitySpec]
    ) throws(ConfigError) -> [FeatureSpec] {
        let entries = try node.entries()
        let allowedKeys = commonFeatureKeys + AggregatorCatalog.argumentKeys.sorted()
        var out: [FeatureSpec] = []
        var pendingRatios: [(index: Int, num: ConfigNode, den: ConfigNode)] = []
        var pendingExpressions: [(index: Int, node: ConfigNode, entity: ConfigNode?)] = []
        /// Where each feature of `out` is defined.
        var definedAt: [ConfigNode] = []
        for (name, spec) in entries {
            guard isName(name) else { throw spec.error("'\(name)' is not a feature name (letters, digits and _)") }
            let keys = try spec.mapping(allowed: allowedKeys)
            func value(_ key: String) -> ConfigNode? { keys.first(where: { $0.key == key })?.value }
            func required(_ key: String) throws(ConfigError) -> ConfigNode {
                guard let v = value(key) else { throw spec.error("missing key '\(key)'") }
                return v
            }
            func entity(_ node: ConfigNode) throws(ConfigError) -> Int {
                let entityName = try node.string()
                guard let entity = entities.firstIndex(where: { $0.name == entityName }) else {
                    throw node.error(
                        "'\(entityName)' is not a declared entity (one of \(entities.map(\.name).joined(separator: ", ")))"
                    )
                }
                return entity
            }
            if let expressionNode = value("expression") {
                for key in keys.map(\.key) where !["entity", "expression", "description"].contains(key) {
                    throw value(key)!.error("a feature with an expression takes no \(key)")
                }
                let home = try value("entity").map(entity) ?? -1
                pendingExpressions.append((out.count, expressionNode, value("entity")))
                definedAt.append(spec)
                out.append(
                    FeatureSpec(
                        name: name, entity: home, kind: .derived(DerivedSpec(expression: .number(0))),
                        description: try value("description")?.string(), line: spec.line ?? 0))
                continue
            }
            let entity = try entity(try required("entity"))
            let aggNode = try required("aggregation")
            let aggName = try aggNode.string()
            let description = try value("description")?.string()
            if aggName == "ratio" {
                for key in keys.map(\.key)
                where !["entity", "aggregation", "numerator", "denominator", "description"].contains(key) {
                    throw value(key)!.error("a ratio takes its \(key) from its numerator and denominator")
                }
                pendingRatios.append((out.count, try required("numerator"), try required("denominator")))
                definedAt.append(spec)
                out.append(
                    FeatureSpec(
                        name: name, entity: entity, kind: .derived(DerivedSpec(expression: .number(0))),
                        description: description, line: spec.line ?? 0))
            } else {
                guard let operation = AggregatorCatalog.named(aggName) else {
                    throw aggNode.error("'\(aggName)' is not an aggregation (\(operationNames))")
                }
                for key in ["numerator", "denominator"] {
                    if let v = value(key) { throw v.error("only a ratio has a \(key)") }
                }
                let aggregate = try parseAggregate(
                    operation, keys: keys, spec: spec, schema: schema, window: try required("window"),
                    hop: value("hop"), halfLife: value("half_life"))
                // A list-valued result is one feature per element, sharing one slot.
                for output in aggregate.operation.outputs {
                    var one = aggregate
                    one.operation = output
                    definedAt.append(spec)
                    out.append(
                        FeatureSpec(
                            name: name + output.outputSuffix, entity: entity, kind: .aggregate(one),
                            description: description, line: spec.line ?? 0))
                }
            }
        }
        var indexByName: [String: Int] = [:]
        for (i, f) in out.enumerated() {
            guard indexByName.updateValue(i, forKey: f.name) == nil else {
                throw definedAt[i].error(
                    "the feature name '\(f.name)' is defined twice (a list-valued feature names one per element)")
            }
        }
        for (index, numNode, denNode) in pendingRatios {
            func operand(_ node: ConfigNode) throws(ConfigError) -> Int {
                let ref = try node.string()
                guard let i = indexByName[ref] else { throw node.error("'\(ref)' is not a declared feature") }
                guard out[i].entity == out[index].entity else {
                    throw node.error(
                        "'\(ref)' belongs to entity \(entities[out[i].entity].name), not \(entities[out[index].entity].name)"
                    )
                }
                guard i != index else { throw node.error("a ratio cannot refer to itself") }
                return i
            }
            let (n, d) = (try operand(numNode), try operand(denNode))
            out[index].kind = .derived(.ratio(n, d, names: (out[n].name, out[d].name)))
        }
        for (index, node, entityNode) in pendingExpressions {
            let expression: FeatureExpression
            let text = try node.string()
            do {
                expression = try ExpressionParser.parse(text, schema: schema) { indexByName[$0] }
            } catch {
                throw node.error(error.message)
            }
            if expression.features.contains(index) { throw node.error("an expression cannot refer to its own feature") }
            out[index].kind = .derived(DerivedSpec(expression: expression))
            if entityNode == nil {
                // The entity of the first feature it names.
                guard let first = expression.featuresInOrder.first else {
                    throw node.error(
                        "an expression that reads no feature needs an entity (the feature view that serves it)")
                }
                out[index].entity = out[first].entity
            }
        }
        // Derived features may read derived features; a cycle is not allowed.
        for index in out.indices where out[index].derived != nil {
            var seen: Set<Int> = [index]
            var stack = [index]
            while let f = stack.popLast() {
                for o in out[f].derived?.expression.features ?? [] {
                    if o == index {
                        let node =
                            pendingRatios.first { $0.index == index }?.num
                            ?? pendingExpressions.first { $0.index == index }!.node
                        throw node.error("derived features refer to each other in a cycle")
                    }
                    if seen.insert(o).inserted { stack.append(o) }
                }
            }
        }
        guard !out.isEmpty else { throw node.error("no features declared") }
        var distinctFilters: [Filter] = []
        for f in out {
            if let filter = f.aggregate?.filter, !distinctFilters.contains(filter) { distinctFilters.append(filter) }
        }
        guard distinctFilters.count <= 64 else {
            throw node.error("\(distinctFilters.count) distinct filters; at most 64 are supported")
        }
        return out
    }

    /// An aggregate: the operation built from its arguments, the filter and the window.
    private static func parseAggregate(
        _ operation: any Aggregator.Type, keys: [(key: String, value: ConfigNode)], spec: ConfigNode,
        schema: EventSchema, window: ConfigNode, hop: ConfigNode?, halfLife: ConfigNode?
    ) throws(ConfigError) -> AggregateSpec {
        let argumentNodes = keys.filter { !commonFeatureKeys.contains($0.key) }
        var values: [String: String] = [:]
        var lists: [String: [String]] = [:]
        for (key, node) in argumentNodes {
            if node.node.sequence != nil { lists[key] = try node.stringList() } else { values[key] = try node.string() }
        }
        var arguments = AggregatorArguments(schema: schema, operation: operation.name, values: values, lists: lists)
        let built: any Aggregator
        do {
            built = try operation.init(arguments: &arguments)
        } catch {
            let node = error.key.flatMap { k in argumentNodes.first { $0.key == k }?.value } ?? spec
            throw node.error(error.message)
        }
        if let key = arguments.unread.first {
            throw argumentNodes.first { $0.key == key }!.value.error("\(operation.name) takes no \(key)")
        }
        var filter: Filter?
        if let filterNode = keys.first(where: { $0.key == "filter" })?.value {
            do {
                filter = try FilterParser.parse(try filterNode.string(), schema: schema)
            } catch let e as FilterParseError {
                throw filterNode.error(e.message)
            } catch {
                throw filterNode.error("\(error)")
            }
        }
        let spec = try parseWindow(window: window, hop: hop, halfLife: halfLife)
        if let refusal = operation.refusal(ofWindow: spec) { throw window.error(refusal) }
        return AggregateSpec(operation: built, filter: filter, window: spec)
    }

    private static let niceHops: [Micros] = [
        Timestamp.microsPerDay, 6 * Timestamp.microsPerHour, Timestamp.microsPerHour, 30 * Timestamp.microsPerMinute,
        15 * Timestamp.microsPerMinute, 5 * Timestamp.microsPerMinute, Timestamp.microsPerMinute,
        30 * Timestamp.microsPerSecond, 10 * Timestamp.microsPerSecond, Timestamp.microsPerSecond,
    ]
    static let maxTiles: Micros = 2000

    /// The default hop: the largest of 1d, 6h, 1h, 30m, 15m, 5m, 1m, 30s, 10s, 1s that divides the
    /// window and is at most a fifth of it (5m → 1m, 1h → 5m, 24h → 1h, 7d → 1d).
    public static func defaultHop(for window: Micros) -> Micros {
        niceHops.first { $0 * 5 <= window && window % $0 == 0 } ?? window
    }

    private static func parseWindow(
        window: ConfigNode, hop: ConfigNode?, halfLife: ConfigNode?
    ) throws(ConfigError) -> WindowSpec {
        let text = try window.string()
        if text == "decayed" {
            if let hop { throw hop.error("a decayed window has a half_life, not a hop") }
            guard let halfLife else { throw window.error("a decayed window needs a half_life (e.g. half_life: 1h)") }
            return .decayed(halfLife: try halfLife.duration())
        }
        if let halfLife { throw halfLife.error("only a decayed window (window: decayed) has a half_life") }
        if text == "session" || text == "lifetime" {
            if let hop { throw hop.error("a \(text) window has no hop") }
            return text == "session" ? .session : .lifetime
        }
        let w = try window.duration()
        let h = try hop?.duration() ?? defaultHop(for: w)
        guard w % h == 0 else {
            throw (hop ?? window).error(
                "the hop \(DurationText.format(h)) does not divide the window \(DurationText.format(w))")
        }
        guard w / h <= maxTiles else {
            throw (hop ?? window).error("\(w / h) tiles per window is too many (at most \(maxTiles)); use a longer hop")
        }
        return .sliding(window: w, hop: h)
    }

    // MARK: views

    private static func parseViews(
        _ node: ConfigNode, entities: [EntitySpec], features: inout [FeatureSpec]
    ) throws(ConfigError) -> [FeatureView] {
        var out: [FeatureView] = []
        var indexByName: [String: Int] = [:]
        for (i, f) in features.enumerated() { indexByName[f.name] = i }
        for (name, spec) in try node.entries() {
            guard isName(name) else { throw spec.error("'\(name)' is not a feature view name") }
            let keys = try spec.mapping(allowed: ["entity", "features", "description"])
            guard let entityNode = keys.first(where: { $0.key == "entity" })?.value else {
                throw spec.error("missing key 'entity'")
            }
            let entityName = try entityNode.string()
            guard let entity = entities.firstIndex(where: { $0.name == entityName }) else {
                throw entityNode.error("'\(entityName)' is not a declared entity")
            }
            guard let listNode = keys.first(where: { $0.key == "features" })?.value else {
                throw spec.error("missing key 'features'")
            }
            var members: [Int] = []
            for featureName in try listNode.stringList() {
                guard let i = indexByName[featureName] else {
                    throw listNode.error("'\(featureName)' is not a declared feature")
                }
                guard features[i].entity == entity else {
                    throw listNode.error(
                        "'\(featureName)' belongs to entity \(entities[features[i].entity].name), not \(entityName)")
                }
                if let other = features[i].view {
                    throw listNode.error("'\(featureName)' is already served by feature view \(other)")
                }
                features[i].view = name
                members.append(i)
            }
            guard !members.isEmpty else { throw listNode.error("a feature view needs at least one feature") }
            out.append(FeatureView(name: name, entity: entity, features: members))
        }
        guard !out.isEmpty else { throw node.error("no feature views declared") }
        return out
    }

    // MARK: label and stores

    private static func parseLabel(_ node: ConfigNode, schema: EventSchema) throws(ConfigError) -> LabelSpec {
        let keys = try node.mapping(allowed: ["name", "example", "outcome", "same", "within", "description"])
        func required(_ key: String) throws(ConfigError) -> ConfigNode {
            guard let v = keys.first(where: { $0.key == key })?.value else { throw node.error("missing key '\(key)'") }
            return v
        }
        func filter(_ key: String) throws(ConfigError) -> Filter {
            let n = try required(key)
            do {
                return try FilterParser.parse(try n.string(), schema: schema)
            } catch let e as FilterParseError {
                throw n.error(e.message)
            } catch {
                throw n.error("\(error)")
            }
        }
        let nameNode = try required("name")
        let name = try nameNode.string()
        guard isName(name) else { throw nameNode.error("'\(name)' is not a column name") }
        let sameNode = try required("same")
        var same: [Int] = []
        for f in try sameNode.stringList() {
            guard let i = schema.index(of: f) else { throw sameNode.error("'\(f)' is not a declared event field") }
            same.append(i)
        }
        return LabelSpec(
            name: name, example: try filter("example"), outcome: try filter("outcome"), same: same,
            within: try required("within").duration())
    }

    private static func parseStores(_ node: ConfigNode) throws(ConfigError) -> StoreSpec {
        let keys = try node.mapping(allowed: ["online", "offline"])
        guard let onlineNode = keys.first(where: { $0.key == "online" })?.value else {
            throw node.error("missing key 'online'")
        }
        let online = try onlineNode.string()
        do {
            _ = try OnlineStoreURL.parse(online)
        } catch {
            throw onlineNode.error(error.description)
        }
        guard let offlineNode = keys.first(where: { $0.key == "offline" })?.value else {
            throw node.error("missing key 'offline'")
        }
        return StoreSpec(online: online, offline: try offlineNode.nonEmptyString())
    }
}
