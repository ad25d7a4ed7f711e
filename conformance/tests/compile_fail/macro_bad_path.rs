mod api {
    tim_codegen_macros::generate!("bad_specs/bad_path");
}

fn main() {}
