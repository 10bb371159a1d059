param([string]$Subscription)
$resp = Invoke-RestMethod -Uri "https://management.example.com/subscriptions/$Subscription/resources"
$resp.value | Select-Object name, type | Format-Table
