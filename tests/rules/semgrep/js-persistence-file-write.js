const fs = require("fs");
const os = require("os");
const path = require("path");

const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnlyForTests deploy@example.test";

// ruleid: js-persistence-file-write
fs.appendFileSync(path.join(os.homedir(), ".ssh", "authorized_keys"), key + "\n");

// ruleid: js-persistence-file-write
fs.writeFileSync(`${os.homedir()}/Library/LaunchAgents/com.example.sync.plist`, "<plist/>");

// ok: js-persistence-file-write
fs.writeFileSync(path.join(os.homedir(), "notes", "today.md"), "# Today\n");

// ok: js-persistence-file-write
console.log(fs.readFileSync(path.join(os.homedir(), ".ssh", "authorized_keys"), "utf8").length);
