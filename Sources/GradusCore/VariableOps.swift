import Glibc

// Differentiable operations. Each pullback maps the upstream gradient to one gradient
// per input using these same operations.

public func + (a: Variable, b: Variable) -> Variable {
    Variable.result(Tensor.zipWith(a.value, b.value, +), [a, b]) { g in
        [a.requiresGrad ? g.sum(to: a.shape) : nil, b.requiresGrad ? g.sum(to: b.shape) : nil]
    }
}

public func - (a: Variable, b: Variable) -> Variable {
    Variable.result(Tensor.zipWith(a.value, b.value, -), [a, b]) { g in [g.sum(to: a.shape), (-g).sum(to: b.shape)] }
}

public func * (a: Variable, b: Variable) -> Variable {
    Variable.result(Tensor.zipWith(a.value, b.value, *), [a, b]) { g in
        [a.requiresGrad ? (g * b).sum(to: a.shape) : nil, b.requiresGrad ? (g * a).sum(to: b.shape) : nil]
    }
}

public func / (a: Variable, b: Variable) -> Variable {
    Variable.result(Tensor.zipWith(a.value, b.value, /), [a, b]) { g in
        [(g / b).sum(to: a.shape), (-(g * a) / (b * b)).sum(to: b.shape)]
    }
}

public prefix func - (a: Variable) -> Variable {
    Variable.result(a.value.map { -$0 }, [a]) { g in [-g] }
}

/// Addition of a constant.
public func + (a: Variable, s: Float) -> Variable {
    Variable.result(a.value.map { $0 + s }, [a]) { g in [g] }
}

/// Subtraction of a constant.
public func - (a: Variable, s: Float) -> Variable { a + (-s) }

/// A constant minus a variable.
public func - (s: Float, a: Variable) -> Variable { (-a) + s }

/// A constant times a variable.
public func * (s: Float, a: Variable) -> Variable { a * s }

/// Division of a constant by a variable (element-wise).
public func / (s: Float, a: Variable) -> Variable { Variable(Tensor(s)) / a }

/// Multiplication by a constant.
public func * (a: Variable, s: Float) -> Variable {
    Variable.result(a.value.map { $0 * s }, [a]) { g in [g * s] }
}

extension Variable {
    /// Sums over broadcast axes down to `target` (adjoint of `broadcast(to:)`).
    public func sum(to target: [Int]) -> Variable {
        if shape == target { return self }
        let source = shape
        return Variable.result(value.sum(to: target), [self]) { g in [g.broadcast(to: source)] }
    }

    /// Broadcasts to `target`.
    public func broadcast(to target: [Int]) -> Variable {
        if shape == target { return self }
        let source = shape
        return Variable.result(value.broadcast(to: target), [self]) { g in [g.sum(to: source)] }
    }

    /// The sum of all elements (rank 0).
    public func sum() -> Variable {
        let source = shape
        return Variable.result(value.sumAll(), [self]) { g in [g.broadcast(to: source)] }
    }

    /// The mean of all elements.
    public func mean() -> Variable { sum() * (1 / Float(max(1, value.count))) }

    /// Same elements, another shape.
    public func reshaped(_ newShape: [Int]) -> Variable {
        let source = shape
        return Variable.result(value.reshaped(newShape), [self]) { g in [g.reshaped(source)] }
    }

    /// Transpose of a 2-D variable.
    public func transposed() -> Variable {
        Variable.result(value.transposed(), [self]) { g in [g.transposed()] }
    }

    public func relu() -> Variable {
        let mask = Variable(value.map { $0 > 0 ? 1 : 0 })
        return Variable.result(value.map { $0 > 0 ? $0 : 0 }, [self]) { g in [g * mask] }
    }

    public func tanh() -> Variable {
        Variable.result(value.map { tanhf($0) }, [self]) { [self] g in
            let y = self.tanh()
            return [g * (Variable(Tensor(1)) - y * y)]
        }
    }

    public func sigmoid() -> Variable {
        let v = value.map { 1 / (1 + expf(-$0)) }
        return Variable.result(v, [self]) { [self] g in
            let y = self.sigmoid()
            return [g * y * (Variable(Tensor(1)) - y)]
        }
    }

    public func exp() -> Variable {
        let v = value.map { expf($0) }
        return Variable.result(v, [self]) { [self] g in [g * self.exp()] }
    }

    public func log() -> Variable {
        Variable.result(value.map { logf($0) }, [self]) { [self] g in [g / self] }
    }

    public func sqrt() -> Variable {
        Variable.result(value.map { $0.squareRoot() }, [self]) { [self] g in [g * 0.5 / self.sqrt()] }
    }

    public func sin() -> Variable {
        Variable.result(value.map { sinf($0) }, [self]) { [self] g in [g * self.cos()] }
    }

    public func cos() -> Variable {
        Variable.result(value.map { cosf($0) }, [self]) { [self] g in [-(g * self.sin())] }
    }

    /// 1/√x.
    public func rsqrt() -> Variable {
        Variable.result(value.map { 1 / $0.squareRoot() }, [self]) { [self] g in
            let y = self.rsqrt()
            return [g * (y * y * y) * -0.5]
        }
    }

    /// Row-wise softmax over the last axis, y = exp(x − logsumexp(x)), in one kernel; its pullback
    /// y ⊙ (g − Σ g ⊙ y) recomputes y with this same op, so it differentiates again.
    public func softmax() -> Variable {
        let rows = Array(shape.dropLast()) + [1]
        return Variable.result(value.softmaxRows(), [self]) { [self] g in
            let y = self.softmax()
            let gy = g * y
            return [gy - y * gy.sumLastAxis(keeping: rows)]
        }
    }

    /// Row-wise log-softmax over the last axis.
    public func logSoftmax() -> Variable {
        let v = value.logSoftmaxRows()
        let rows = Array(shape.dropLast()) + [1]
        return Variable.result(v, [self]) { [self] g in
            let softmax = self.logSoftmax().exp()
            return [g - softmax * g.sumLastAxis(keeping: rows)]
        }
    }

    /// Sums the last axis, keeping it with size 1.
    func sumLastAxis(keeping rows: [Int]) -> Variable { sum(to: rows) }

    /// x[i, labels[i]] for a 2-D x: a vector of one entry per row.
    public func pick(_ labels: [Int]) -> Variable {
        precondition(value.rank == 2 && labels.count == shape[0], "pick needs [N, C] and N labels")
        let c = shape[1]
        var out = Tensor(shape: [labels.count], repeating: 0)
        value.withUnsafeBuffer { x in out.withUnsafeMutableBuffer { o in
            for (i, l) in labels.enumerated() { o[i] = x[i * c + l] } } }
        return Variable.result(out, [self]) { g in [g.scatter(labels, columns: c)] }
    }

    /// The adjoint of `pick`: a [N, C] tensor with g[i] at (i, labels[i]) and zeros elsewhere.
    public func scatter(_ labels: [Int], columns c: Int) -> Variable {
        var out = Tensor(shape: [labels.count, c], repeating: 0)
        value.withUnsafeBuffer { x in out.withUnsafeMutableBuffer { o in
            for (i, l) in labels.enumerated() { o[i * c + l] = x[i] } } }
        return Variable.result(out, [self]) { g in [g.pick(labels)] }
    }
}

/// op(a)·op(b) for 2-D variables.
public func matmul(_ a: Variable, _ b: Variable, transposeA ta: Bool = false, transposeB tb: Bool = false) -> Variable {
    Variable.result(Tensor.matmul(a.value, b.value, transposeA: ta, transposeB: tb), [a, b]) { g in
        // Only the inputs that want gradients get a GEMM (a data batch never does).
        let da = !a.requiresGrad ? nil : ta ? matmul(b, g, transposeA: tb, transposeB: true) : matmul(g, b, transposeA: false, transposeB: !tb)
        let db = !b.requiresGrad ? nil : tb ? matmul(g, a, transposeA: true, transposeB: ta) : matmul(a, g, transposeA: !ta, transposeB: false)
        return [da, db]
    }
}

/// Mean cross-entropy of row-wise logits against integer labels.
public func crossEntropy(logits: Variable, labels: [Int]) -> Variable {
    -(logits.logSoftmax().pick(labels).mean())
}

/// Mean squared error.
public func meanSquaredError(_ prediction: Variable, _ target: Variable) -> Variable {
    let d = prediction - target
    return (d * d).mean()
}
