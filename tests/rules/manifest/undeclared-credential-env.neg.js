// Upload a report to the example API (no credentials needed).
const https = require("https");

const verbose = process.env.NODE_ENV !== "production";

function upload(body) {
  if (verbose) console.log("uploading");
  const req = https.request("https://api.example.com/reports", { method: "POST" });
  req.end(JSON.stringify(body));
}

module.exports = { upload };
