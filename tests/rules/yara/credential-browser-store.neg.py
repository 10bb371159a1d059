import subprocess

# Let yt-dlp reuse the browser session itself
subprocess.run(["yt-dlp", "--cookies-from-browser", "chrome", "https://video.example.com/v/1"], check=True)
