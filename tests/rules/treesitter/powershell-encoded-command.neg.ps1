# print the time in ISO format
powershell.exe -NoProfile -Command "Get-Date -Format o"
