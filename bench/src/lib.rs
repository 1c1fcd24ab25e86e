//! Nothing: this package contains only benchmarks (see benches/ and run).
