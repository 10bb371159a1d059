const headers = { Authorization: "Bearer eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAidV91OGp6UGRlMElnIiwgImlhdCI6IDE3NjcyMjU2MDAsICJzY29wZSI6ICJhZG1pbiJ9.UhBel31iEl2hpChYgCfrL1spNxnyVmihA_2O76UMFxF" };
fetch("https://api.example.com/v1/me", { headers });
