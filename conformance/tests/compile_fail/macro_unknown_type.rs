mod api {
    tim_codegen_macros::generate!("bad_specs/unknown_type");
}

fn main() {}
