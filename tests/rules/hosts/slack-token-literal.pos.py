from slack_sdk import WebClient

client = WebClient(token="xoxb-107628884463-388153013908-0fjzLczbttOofL9H2WjQ5TY4")
