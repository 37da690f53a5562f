import GradusPluginKit

// Hyperparameter schedules, called by the host through libffi. `step` is 0 for the
// first update; `base` is the configured value of the scheduled hyperparameter.
// Invalid arguments (e.g. step_size <= 0) give NaN, which the host reports.

let constant: @convention(c) (Double) -> Double = { base in base }

/// torch.optim.lr_scheduler.StepLR: base·γ^⌊step / step_size⌋.
let stepDecay: @convention(c) (Int64, Double, Int64, Double) -> Double = { step, base, stepSize, gamma in
    stepSize > 0 ? base * pow(gamma, Double(step / stepSize)) : .nan
}

/// torch.optim.lr_scheduler.ExponentialLR: base·γ^step.
let exponential: @convention(c) (Int64, Double, Double) -> Double = { step, base, gamma in
    base * pow(gamma, Double(step))
}

/// Linear warm-up from 0 over `warmup_steps` (step/warmup, the Hugging Face convention), then a
/// half cosine from base down to `floor` at `total_steps`, held at `floor` afterwards.
let cosineWarmup: @convention(c) (Int64, Int64, Int64, Double, Double) -> Double = { step, total, warmup, base, floor in
    guard total > 0, warmup >= 0, warmup <= total else { return .nan }
    if step < warmup { return base * Double(step) / Double(warmup) }
    let progress = min(1, Double(step - warmup) / Double(max(1, total - warmup)))
    return floor + (base - floor) * 0.5 * (1 + cos(Double.pi * progress))
}

func schedule(_ name: String, _ display: String, _ summary: String, _ signature: String, _ fn: gradus_generic_fn) -> PluginStrategy {
    .function(FunctionPlugin(info: StrategyInfo(id: "gradus.\(name)", displayName: display, version: "1.0.0", summary: summary),
                             signature: signature, function: fn, purpose: .schedule))
}

let strategies: [PluginStrategy] = [
    schedule("constant", "Constant", "the configured value at every step", "f64 constant(f64 base)",
             unsafeBitCast(constant, to: gradus_generic_fn.self)),
    schedule("step", "Step decay", "base·gamma^floor(step/step_size) (torch StepLR)",
             "f64 step_decay(i64 step, f64 base, i64 step_size, f64 gamma)", unsafeBitCast(stepDecay, to: gradus_generic_fn.self)),
    schedule("exponential", "Exponential decay", "base·gamma^step (torch ExponentialLR)",
             "f64 exponential(i64 step, f64 base, f64 gamma)", unsafeBitCast(exponential, to: gradus_generic_fn.self)),
    schedule("cosine_warmup", "Cosine with warm-up", "linear warm-up from 0, then half-cosine from base to floor",
             "f64 cosine_warmup(i64 step, i64 total_steps, i64 warmup_steps, f64 base, f64 floor)",
             unsafeBitCast(cosineWarmup, to: gradus_generic_fn.self)),
]

@_cdecl("gradus_plugin_entry_v1")
public func entry(_ q: EntryRequest?, _ r: EntryResponse?) -> Int32 { GradusLibrary.entry(q, r, name: "gradus-schedules", vendor: "gradus", strategies) }
