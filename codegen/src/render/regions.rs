//! The `Region` enum from `shared/regions.yaml`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::Region;
use crate::names::ident;

/// Renders `Region` with its hosts and ids.
pub(crate) fn region_enum(regions: &[Region]) -> TokenStream {
    let names: Vec<_> = regions.iter().map(|r| ident(&r.name)).collect();
    let hosts: Vec<_> = regions.iter().map(|r| r.host.as_str()).collect();
    let ids: Vec<_> = regions.iter().map(|r| r.id.as_str()).collect();
    let docs = regions.iter().map(|r| format!(" `{}` (`{}`).", r.host, r.id));
    let known = ids.join(", ");
    quote! {
        /// Data-center region of an app; decides the REST API host.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Region {
            #(#[doc = #docs] #names,)*
        }

        impl Region {
            /// Every region, in the order of `shared/regions.yaml`.
            pub const ALL: &'static [Region] = &[#(Region::#names),*];

            /// Host of the REST API in this region.
            pub fn host(self) -> &'static str {
                match self { #(Region::#names => #hosts,)* }
            }

            /// Id used on the command line and in `TIM_REGION`.
            pub fn id(self) -> &'static str {
                match self { #(Region::#names => #ids,)* }
            }
        }

        impl ::std::str::FromStr for Region {
            type Err = ::std::string::String;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Region::ALL
                    .iter()
                    .copied()
                    .find(|r| r.id().eq_ignore_ascii_case(s))
                    .ok_or_else(|| format!("unknown region `{s}` (known: {})", #known))
            }
        }
    }
}
