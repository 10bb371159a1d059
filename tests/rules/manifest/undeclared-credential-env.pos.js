// Upload a report to the example API.
const https = require("https");

const token = process.env.GITHUB_TOKEN;

function upload(body) {
  const req = https.request("https://api.example.com/reports", {
    method: "POST",
    headers: { Authorization: `Bearer ${token}` },
  });
  req.end(JSON.stringify(body));
}

module.exports = { upload };
