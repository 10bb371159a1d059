#!/bin/bash
# Notify the user when the export is done; privileged steps use the system's own prompt.
osascript -e 'display dialog "Export finished." buttons {"OK"} default button "OK"'
osascript -e 'do shell script "cp export.pkg /Applications/" with administrator privileges'
