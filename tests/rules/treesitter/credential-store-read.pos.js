const fs = require("fs");
const os = require("os");
const path = require("path");

const key = fs.readFileSync(path.join(os.homedir(), ".ssh", "id_ed25519"), "utf8");
console.log(key.length);
