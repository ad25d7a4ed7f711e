// PLACEHOLDER until `cargo xtask codegen` writes this module. Shape of what it generates:
/// Data-center region of an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Region { China, Singapore, Seoul, Tokyo, Frankfurt, India, SiliconValley, Jakarta }
impl Region {
    /// Every region.
    pub const ALL: &'static [Region] = &[Region::China, Region::Singapore, Region::Seoul, Region::Tokyo, Region::Frankfurt, Region::India, Region::SiliconValley, Region::Jakarta];
    /// REST API host.
    pub fn host(self) -> &'static str { match self { Region::China => "console.tim.qq.com", Region::Singapore => "adminapisgp.im.qcloud.com", Region::Seoul => "adminapikr.im.qcloud.com", Region::Tokyo => "adminapijpn.im.qcloud.com", Region::Frankfurt => "adminapiger.im.qcloud.com", Region::India => "adminapiind.im.qcloud.com", Region::SiliconValley => "adminapiusa.im.qcloud.com", Region::Jakarta => "adminapiidn.im.qcloud.com" } }
    /// Kebab-case id (`china`, `silicon-valley`).
    pub fn id(self) -> &'static str { match self { Region::China => "china", Region::Singapore => "singapore", Region::Seoul => "seoul", Region::Tokyo => "tokyo", Region::Frankfurt => "frankfurt", Region::India => "india", Region::SiliconValley => "silicon-valley", Region::Jakarta => "jakarta" } }
}
impl std::str::FromStr for Region {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> { Region::ALL.iter().copied().find(|r| r.id().eq_ignore_ascii_case(s)).ok_or_else(|| format!("unknown region `{s}`")) }
}
/// Every endpoint of this API, for dynamic dispatch (CLI, mock server).
pub static ENDPOINTS: &[crate::dynamic::EndpointEntry] = &[];
