// Block known browser-miner domains in the proxy allow-list UI
const BLOCKED_KEYWORDS = ["coinhive", "cryptoloot"];
export const isBlocked = (host) => BLOCKED_KEYWORDS.some((k) => host.includes(k));
