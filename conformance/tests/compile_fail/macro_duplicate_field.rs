mod api {
    tim_codegen_macros::generate!("bad_specs/duplicate_field");
}

fn main() {}
