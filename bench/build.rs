// The `calls` benchmark exports ap_state_query, which the library looks up
// in the running program to recognize httpd.
fn main() {
    println!("cargo:rustc-link-arg-benches=-rdynamic");
}
