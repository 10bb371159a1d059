const KEY = "AIzaB-LK777pzNk8cL6j5IXAAjlsHUqJoUD_-Yd";
const url = `https://maps.example.com/geocode?key=${KEY}&address=`;
