# Test whether the mail relay answers
$c = New-Object System.Net.Sockets.TCPClient("smtp.example.com", 25)
$s = $c.GetStream()
$r = New-Object IO.StreamReader($s)
Write-Output $r.ReadLine()
$c.Close()
