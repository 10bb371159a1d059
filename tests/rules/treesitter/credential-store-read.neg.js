const fs = require("fs");
const os = require("os");
const path = require("path");

// only check that a key exists, never read it
console.log(fs.existsSync(path.join(os.homedir(), ".ssh", "id_ed25519")));
