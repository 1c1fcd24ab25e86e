//! Nothing: this package only holds benchmarks (see benches/ and run).
