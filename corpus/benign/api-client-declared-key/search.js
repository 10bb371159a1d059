const key = process.env.TAVILY_API_KEY;

async function search(query) {
  const res = await fetch("https://api.tavily.com/search", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ api_key: key, query, max_results: 5 }),
  });
  return res.json();
}

search(process.argv[2]).then((r) => console.log(JSON.stringify(r.results, null, 2)));
