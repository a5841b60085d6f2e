/// The rules in force, indexed for evaluation: which rules look at which event kinds.
package struct RuleSet: Sendable {
    package let rules: [Rule]
    let byID: [String: Int]
    /// Rule indexes by the event kinds their triggers consume (event, absence, window numerator and
    /// denominator), so an event costs only the rules that care about its kind.
    let byKind: [String: [Int]]
    /// ``byKind`` without ``lastMatchRules``: the rules each event of a commit goes through.
    let eachEventByKind: [String: [Int]]
    /// Absence rules without `where`: they only remember a session's last matching event and when
    /// it came, so of a commit's events only the last matching one per session counts.
    let lastMatchRules: [Int]
    /// Rules evaluated on every tick (state, absence, window).
    let levelRules: [Int]

    package init(_ rules: [Rule]) {
        let enabled = rules.filter(\.enabled)
        self.rules = enabled
        byID = Dictionary(enabled.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { first, _ in first })
        var byKind: [String: [Int]] = [:]
        var eachEventByKind: [String: [Int]] = [:]
        var lastMatchRules: [Int] = []
        var levelRules: [Int] = []
        for (index, rule) in enabled.enumerated() {
            var kinds: Set<String> = []
            switch rule.trigger {
            case .event(let trigger): kinds = trigger.filter.kinds
            case .absence(let trigger):
                kinds = trigger.filter.kinds
                levelRules.append(index)
                if trigger.filter.where == nil { lastMatchRules.append(index) }
            case .window(let trigger):
                kinds = trigger.filter.kinds.union(trigger.denominator?.kinds ?? [])
                levelRules.append(index)
            case .state:
                levelRules.append(index)
            }
            for kind in kinds {
                byKind[kind, default: []].append(index)
                if lastMatchRules.last != index { eachEventByKind[kind, default: []].append(index) }
            }
        }
        self.byKind = byKind
        self.eachEventByKind = eachEventByKind
        self.lastMatchRules = lastMatchRules
        self.levelRules = levelRules
    }

    package static let empty = RuleSet([])

    package func rule(id: String) -> Rule? {
        byID[id].map { rules[$0] }
    }
}
