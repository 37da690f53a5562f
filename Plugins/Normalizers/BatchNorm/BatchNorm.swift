import GradusPluginKit

/// BatchNorm over every axis but the channel axis (1), in kernel and graph form, with PyTorch's
/// conventions: batch statistics with the biased variance in train mode, running statistics
/// updated as r ← (1 − momentum)·r + momentum·batch (the variance unbiased), used in eval mode.
struct BatchNorm: NormalizerPlugin {
    static let info = StrategyInfo(id: "gradus.batchnorm", displayName: "BatchNorm", version: "1.0.0",
                                   summary: "Batch normalization with running statistics for evaluation",
                                   reference: "Ioffe & Szegedy 2015; torch.nn.BatchNorm1d/2d")
    static let eps = Real("eps", default: 1e-5, min: 0, flags: [.logScale, .minExclusive], doc: "added to the variance inside the root")
    static let momentum = Real("momentum", default: 0.1, min: 0, max: 1, flags: [.minExclusive], doc: "weight of the batch in the running statistics")
    static let affine = Flag("affine", default: true, doc: "learn a per-channel gain and bias")
    static let hyperparameters = schema(eps, momentum, affine)
    static let forms: NormalizerForms = [.kernel, .graph]

    let eps: Double, momentum: Double, affine: Bool, channels: Int, inner: Int, rank: Int

    init(_ hp: HyperparameterValues, input: NormalizerInput) throws {
        guard input.shape.count >= 2, input.channelAxis == 1 else {
            throw PluginError.invalidArgument("input of shape \(input.shape) with channel axis \(input.channelAxis); expected [N, C, ...] with channel axis 1")
        }
        (eps, momentum, affine) = (hp[Self.eps], hp[Self.momentum], hp[Self.affine])
        (channels, inner, rank) = (input.shape[1], input.shape.dropFirst(2).reduce(1, *), input.shape.count)
    }

    var parameters: [NormalizerTensor] {
        affine ? [NormalizerTensor("weight", role: .normGain, shape: [channels], initialValue: 1),
                  NormalizerTensor("bias", role: .normBias, shape: [channels], initialValue: 0)] : []
    }
    var buffers: [NormalizerTensor] {
        [NormalizerTensor("running_mean", shape: [channels], initialValue: 0), NormalizerTensor("running_var", shape: [channels], initialValue: 1)]
    }
}

@_cdecl("gradus_plugin_entry_v1")
public func entry(_ q: EntryRequest?, _ r: EntryResponse?) -> Int32 { GradusLibrary.entry(q, r, name: "gradus-batchnorm", vendor: "gradus", [.normalizer(BatchNorm.self)]) }
