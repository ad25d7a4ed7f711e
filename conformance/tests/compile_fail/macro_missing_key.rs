mod api {
    tim_codegen_macros::generate!("bad_specs/missing_key");
}

fn main() {}
